// Entry point of the Pulumi program (package.json "main"): the same code for every stack.
import { deployStack } from "./program";

const outputs = deployStack();
export const verifyManifest = outputs.verifyManifest;
/** Each host's CA certificate (public), by host name: what clients of spark-pg and redis trust. */
export const tlsCaCertificates = outputs.tlsCaCertificates;
