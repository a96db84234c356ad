import { loop } from './loop.command';

/** `genesis loop stop`. */
export const run = loop('stop');
