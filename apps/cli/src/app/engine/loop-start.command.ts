import { loop } from './loop.command';

/** `genesis loop start`. */
export const run = loop('start');
