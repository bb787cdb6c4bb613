// `npx tsx scripts/systemd-units.ts`: writes the unit templates in systemd/ from src/cli/service-unit.ts
// (the function `mcp-gateway service install` uses). test/systemd/units.test.ts fails when they differ.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_UNITS, serviceUnit } from '../src/cli/service-unit.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'systemd');
for (const { file, spec } of SHIPPED_UNITS) {
  writeFileSync(path.join(dir, file), serviceUnit(spec));
  console.log(`wrote systemd/${file}`);
}
