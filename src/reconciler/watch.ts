// Watches the manifest's folder, not the file: editors' atomic saves, `git checkout`, rename-into-place
// and Kubernetes' `..data` symlink swaps all replace the file, and the event then names something else
// (or a watcher on the file itself goes deaf). Any event means "maybe changed"; the reconciler hashes
// the bytes and decides. Events can still be missed (the folder itself replaced or deleted and made
// again): a slow periodic look covers that, and starts a fresh watcher on the folder now there.
import { statSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface ManifestWatcher {
  /** Resolves once the initial scan is done and changes are seen. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  readonly debounceMs?: number;
  /** How often to look even without an event (default 2 s; a read and a hash of a small file). */
  readonly pollMs?: number;
}

function folderId(dir: string): string | undefined {
  try {
    const s = statSync(dir);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

export function watchManifest(
  file: string,
  onMaybeChanged: () => void,
  onError: (err: unknown) => void,
  options: WatchOptions = {},
): ManifestWatcher {
  const dir = path.dirname(path.resolve(file));
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onMaybeChanged, options.debounceMs ?? 100);
  };
  const start = (): { watcher: FSWatcher; id: string | undefined; ready: Promise<void> } => {
    const watcher = watch(dir, { depth: 0, ignoreInitial: true, persistent: true });
    watcher.on('error', onError);
    watcher.on('all', changed);
    return { watcher, id: folderId(dir), ready: new Promise<void>((resolve) => watcher.once('ready', () => resolve())) };
  };
  let current = start();
  const poll = setInterval(() => {
    const id = folderId(dir);
    if (id !== undefined && id !== current.id) {
      // The folder was replaced: the old watcher watches something that is gone.
      void current.watcher.close();
      current = start();
    }
    onMaybeChanged();
  }, options.pollMs ?? 2000);
  poll.unref();

  let closed: Promise<void> | undefined;
  return {
    ready: current.ready,
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      closed ??= current.watcher.close();
      return closed;
    },
  };
}
