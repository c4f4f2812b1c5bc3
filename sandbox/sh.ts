import { $ } from "zx";

/** zx echoes a failing command's stderr unless quiet; we report errors ourselves. */
export const sh = $({ quiet: true });
