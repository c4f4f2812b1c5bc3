import { cidrContains, ipKey, parseCidr } from "../../lib/cidr";
import { command } from "../../lib/shell-quote";
import type { HostExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";
import { parseStatus } from "./service-instance";
import { type ProbeAnswer, type ProbeTarget, probePostgres, probeRedis } from "./wire-probes";

type Service = "spark-pg" | "redis";

interface OutsideInstance {
  service: Service;
  name: string;
  listen: string;
  clients: string[];
}

export const outsideCheckNames = {
  tls: (i: OutsideInstance) => `from here: ${i.service} ${i.name}: TLS with a certificate the host CA signed for ${i.listen}`,
  plain: (i: OutsideInstance) => `from here: ${i.service} ${i.name}: the plain protocol is refused`,
  source: (i: OutsideInstance) => `from here: spark-pg ${i.name}: this client's address is let in only if declared`,
};

export interface OutsideOptions {
  /** Connect from this local address (a multi-homed runner, or a test of a refused network). */
  source?: string;
  sudo?: boolean;
  timeoutMs?: number;
}

function outsideInstances(host: HostExpectation): OutsideInstance[] {
  const of = (service: Service, expectation: HostExpectation["sparkPg"] | HostExpectation["redis"]) =>
    (expectation?.instances ?? []).map((i) => ({ service, name: i.name, listen: expectation!.listen, clients: expectation!.clients }));
  return [...of("spark-pg", host.sparkPg), ...of("redis", host.redis)];
}

function plannedInstanceChecks(i: OutsideInstance): PlannedCheck[] {
  return [
    { name: outsideCheckNames.tls(i), expected: "TLS verified with the host CA" },
    { name: outsideCheckNames.plain(i), expected: "refused" },
    ...(i.service === "spark-pg" ? [{ name: outsideCheckNames.source(i), expected: `admitted from ${i.listen} or ${i.clients.join(", ") || "no other network"}` }] : []),
  ];
}

export function plannedOutsideChecks(host: HostExpectation): PlannedCheck[] {
  return host.tls === undefined ? [] : outsideInstances(host).flatMap(plannedInstanceChecks);
}

/** Whether a client from `source` is declared: the host itself (its listen address) or a client network. */
export function sourceDeclared(source: string, listen: string, clients: string[]): boolean {
  if (ipKey(source) === ipKey(listen)) return true;
  return clients.some((text) => {
    const cidr = parseCidr(text);
    return !("error" in cidr) && cidrContains(cidr, source);
  });
}

/**
 * Each service instance as a client where verify runs sees it, without credentials: TLS with a
 * certificate valid for the listen address, the plain protocol refused, and (Postgres, whose
 * pg_hba.conf answers before any password) this client's address let in exactly when declared.
 */
export async function checkFromOutside(exec: Exec, host: HostExpectation, options: OutsideOptions = {}): Promise<CheckResult[]> {
  if (host.tls === undefined) return [];
  const instances = outsideInstances(host);
  const caRun = await exec(command("cat", host.tls.caFile));
  const results: CheckResult[] = [];
  for (const instance of instances) {
    const planned = plannedInstanceChecks(instance);
    const tool = instance.service === "spark-pg" ? "spark-pg" : "spark-redis";
    const statusRun = caRun.code === 0 ? await exec(command(...(options.sudo ? ["sudo", "-n"] : []), tool, "status", instance.name, "--json")) : caRun;
    const status = statusRun.code === 0 ? parseStatus(statusRun.stdout) : undefined;
    if (status === undefined) {
      const why = caRun.code !== 0 ? `cannot read the host CA: ${commandError(caRun)}` : `no port from ${tool} status: ${commandError(statusRun)}`;
      results.push(...planned.map((c) => fail(c.name, c.expected, why)));
      continue;
    }
    results.push(...(await probeInstance(instance, { address: instance.listen, port: status.port, source: options.source, timeoutMs: options.timeoutMs }, caRun.stdout)));
  }
  return results;
}

async function probeInstance(instance: OutsideInstance, target: ProbeTarget, ca: string): Promise<CheckResult[]> {
  const n = outsideCheckNames;
  const probe = instance.service === "spark-pg" ? probePostgres : probeRedis;
  const [secure, plain] = await Promise.all([probe(target, ca), probe(target)]);
  const results = [secure.tlsVerified ? pass(n.tls(instance), `TLS verified; ${secure.said}`) : fail(n.tls(instance), "TLS verified with the host CA", secure.said)];
  results.push(plainRefused(instance.service, plain) ? pass(n.plain(instance), plain.said) : fail(n.plain(instance), "refused", plain.said));
  if (instance.service === "spark-pg") results.push(sourceResult(instance, secure));
  return results;
}

function plainRefused(service: Service, answer: ProbeAnswer): boolean {
  if (answer.said.startsWith("no connection")) return true;
  if (service === "spark-pg") return answer.said.startsWith("hba refused") || answer.said === "closed";
  return !/^"?[+-]/.test(answer.said);
}

function sourceResult(instance: OutsideInstance, secure: ProbeAnswer): CheckResult {
  const name = outsideCheckNames.source(instance);
  const source = secure.localAddress;
  if (!secure.tlsVerified || source === undefined) return fail(name, "a TLS connection to ask", secure.said);
  const declared = sourceDeclared(source, instance.listen, instance.clients);
  const admitted = secure.said === "auth requested";
  const expected = declared ? `${source} admitted (declared)` : `${source} refused (not declared)`;
  if (!admitted && !secure.said.startsWith("hba refused")) return fail(name, expected, secure.said);
  const found = admitted ? `${source} admitted: the server asked for a password` : `${source} refused: ${secure.said}`;
  return admitted === declared ? pass(name, found) : fail(name, expected, found);
}
