// Types of heap-flags.js for the TypeScript tests (bin/ stays plain JavaScript: it runs before tsx).
export declare const HEAP_FLAGS: readonly string[];
export declare const NO_RELAUNCH_ENV: string;
export declare function missingHeapFlags(execArgv: readonly string[], nodeOptions?: string): string[];
export declare function relaunch(flags: readonly string[], script: string, args: readonly string[]): void;
