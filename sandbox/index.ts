export { sandboxUp, upSummary, type UpOptions, type UpResult } from "./up";
export { sandboxDown, type DownOptions, type DownResult } from "./down";
export { sandboxStatus, statusText, type SandboxStatus, type StatusOptions } from "./status";
export type { SandboxConnection } from "./connection";
export { SandboxError } from "./log";
export { statePaths } from "./paths";
export { openSandboxSession } from "./session";
export { sandboxReboot, rebootSummary, type RebootOptions, type RebootResult } from "./reboot";
