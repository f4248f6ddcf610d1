import { ConfigError, loadConfig } from "../../src/config/index.js";

/** The lines a start-up with `env` would refuse with (one per bad variable); empty when it starts. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
