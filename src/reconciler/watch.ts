// Watches the manifest's folder, not the file: editors' atomic saves, `git checkout`, rename-into-place
// and Kubernetes' `..data` symlink swaps all replace the file, and the event then names something else
// (or a watcher on the file itself goes deaf). Any event means "maybe changed"; the reconciler hashes
// the bytes and decides.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface ManifestWatcher {
  /** Resolves once the initial scan is done and changes are seen. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function watchManifest(
  file: string,
  onMaybeChanged: () => void,
  onError: (err: unknown) => void,
  debounceMs = 100,
): ManifestWatcher {
  const dir = path.dirname(path.resolve(file));
  const watcher: FSWatcher = watch(dir, { depth: 0, ignoreInitial: true, persistent: true });
  let timer: NodeJS.Timeout | undefined;
  watcher.on('error', onError);
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(onMaybeChanged, debounceMs);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  let closed: Promise<void> | undefined;
  return {
    ready,
    close() {
      clearTimeout(timer);
      closed ??= watcher.close();
      return closed;
    },
  };
}
