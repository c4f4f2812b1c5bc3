import { readFileSync } from "node:fs";
import { SshSession } from "../lib/ssh";
import { readConnection } from "./connection";
import { statePaths } from "./paths";

/** An SSH session as root on the sandbox host that is up in `stateDir`, its host key pinned. */
export async function openSandboxSession(stateDir?: string): Promise<SshSession> {
  const paths = statePaths(stateDir);
  const connection = readConnection(paths.connection);
  if (!connection) throw new Error(`no sandbox host is up in ${paths.dir}`);
  return SshSession.open({
    host: connection.address,
    port: connection.port,
    user: connection.user,
    hostKey: connection.hostKey,
    privateKey: readFileSync(connection.privateKeyPath, "utf8"),
  });
}
