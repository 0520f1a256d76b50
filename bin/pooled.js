#!/usr/bin/env node
// `pooled` command. The TypeScript sources are compiled to dist/ by `npm ci` (the package's prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('pooled: dist/ is missing; run `npm ci` (or `npm run build:ts`) in the package folder first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
