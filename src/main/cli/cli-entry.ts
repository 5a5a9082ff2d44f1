import { runCli } from './ptw-cli';

void runCli(process.argv.slice(2)).then((code) => {
  // `serve` keeps the process alive through its server; every other command ends here.
  if (code !== 0) process.exitCode = code;
});
