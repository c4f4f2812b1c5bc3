// Entry point of the Pulumi program (package.json "main"): the same code for every stack.
import { deployStack } from "./program";

export const verifyManifest = deployStack();
