// Tools from outside npm that some tests need (Chromium, systemd-analyze). A test finds its tool, or is
// skipped by name with the command that would enable it — never counted as passed. Under CI=true a
// missing tool is a failure: .ci/run installs what the tests need. scripts/test.mjs prints the reasons
// it finds in MCP_GATEWAY_SKIP_LOG before its last line.
import { appendFileSync } from 'node:fs';
import type { TestContext } from 'vitest';

export interface Tool {
  /** What the test needs, as a person would name it. */
  readonly name: string;
  /** Why it cannot be used here (not installed, or broken), or undefined when it can. */
  readonly missing: string | undefined;
  /** The command that would install it. */
  readonly enable: string;
}

/** Goes on when the tool is there; otherwise skips the test (fails it under CI=true) and says why. */
export function needTool(ctx: TestContext, tool: Tool): void {
  if (tool.missing === undefined) return;
  const reason = `${tool.name}: ${tool.missing}; to run it: ${tool.enable}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: nothing may be skipped)`);
  const log = process.env.MCP_GATEWAY_SKIP_LOG;
  if (log !== undefined) appendFileSync(log, `${ctx.task.file?.name ?? ''} > ${ctx.task.name}: ${reason}\n`);
  ctx.skip(reason);
}
