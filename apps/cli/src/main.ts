import { main } from './app/cli';

// `genesis …`: see apps/cli/src/app/cli.ts and the README section "The genesis CLI".
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
