#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'main', 'cli.cjs');
if (!fs.existsSync(entry)) {
  process.stderr.write('ptw: the app is not built yet. Run `npm run build` in ' + path.resolve(__dirname, '..') + '\n');
  process.exit(2);
}
require(entry);
