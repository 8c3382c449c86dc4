#!/usr/bin/env node
'use strict';
// `npx innatural-otel doctor`: all logic in src/doctor/cli.ts.
require('../dist/src/doctor/cli.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
