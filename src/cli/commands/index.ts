import type { Command } from "../command.ts";
import { build } from "./build.ts";
import { convert } from "./convert.ts";
import { inspect } from "./inspect.ts";
import { parse } from "./parse.ts";
import { run } from "./run.ts";

/** Every subcommand, in the order `layerlab help` lists them. Each lives in its own file. */
export const commands: Command[] = [inspect, convert, parse, build, run];
