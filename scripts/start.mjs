#!/usr/bin/env node
// `npm start`: runs the built command line (dist/), building it first only when a source file is
// newer than the build (`npm ci` already built it through the `prepare` script), so a start after
// set-up takes a fraction of a second instead of a full TypeScript build every time.
import { pathToFileURL } from 'node:url';
import { buildIfStale, entry } from './build.mjs';

buildIfStale();
await import(pathToFileURL(entry).href);
