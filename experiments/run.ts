/**
 * Standalone entry: `npx tsx experiments/run.ts list`, `… run NAME|all [--quick] [--seed N] [--out DIR]`.
 * The same commands as `zerodl experiment …`.
 */
import { Command } from "commander";
import { registerExperimentCommand } from "./cli.js";

const program = new Command("experiments").description("the book's experiments");
// Standalone, the subcommands sit at the top level: `run.ts list` rather than `run.ts experiment list`.
const experiment = registerExperimentCommand(new Command());
for (const sub of experiment.commands) program.addCommand(sub);

try {
  await program.parseAsync(process.argv);
  process.exit(0); // the fast backend's worker threads would keep the process alive
} catch (e) {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
}
