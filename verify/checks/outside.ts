import { cidrContains, ipKey, parseCidr } from "../../lib/cidr";
import { command } from "../../lib/shell-quote";
import type { HostExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass, skip } from "./result";
import { parseStatus } from "./service-instance";
import { localAddressFor, type ProbeAnswer, type ProbeTarget, probePostgres, probeRedis } from "./wire-probes";

type Service = "spark-pg" | "redis";

interface OutsideInstance {
  service: Service;
  name: string;
  listen: string;
  clients: string[];
  /** The host firewall drops undeclared clients before the service sees them. */
  firewalled: boolean;
}

type Named = Pick<OutsideInstance, "service" | "name" | "listen">;

export const outsideCheckNames = {
  tls: (i: Named) => `from here: ${i.service} ${i.name}: TLS with a certificate the host CA signed for ${i.listen}`,
  plain: (i: Named) => `from here: ${i.service} ${i.name}: the plain protocol is refused`,
  source: (i: Named) => `from here: ${i.service} ${i.name}: this client's address is let in only if declared`,
};

export interface OutsideOptions {
  /** Connect from this local address (a multi-homed runner, or a test of a refused network). */
  source?: string;
  sudo?: boolean;
  timeoutMs?: number;
}

function outsideInstances(host: HostExpectation): OutsideInstance[] {
  const of = (service: Service, expectation: HostExpectation["sparkPg"] | HostExpectation["redis"]) =>
    (expectation?.instances ?? []).map((i) => ({ service, name: i.name, listen: expectation!.listen, clients: expectation!.clients, firewalled: host.firewall !== undefined }));
  return [...of("spark-pg", host.sparkPg), ...of("redis", host.redis)];
}

function plannedInstanceChecks(i: OutsideInstance): PlannedCheck[] {
  return [
    { name: outsideCheckNames.tls(i), expected: "TLS verified with the host CA" },
    { name: outsideCheckNames.plain(i), expected: "refused" },
    ...(checksSource(i) ? [{ name: outsideCheckNames.source(i), expected: `admitted from ${i.listen} or ${i.clients.join(", ") || "no other network"}` }] : []),
  ];
}

export function plannedOutsideChecks(host: HostExpectation): PlannedCheck[] {
  return host.tls === undefined ? [] : outsideInstances(host).flatMap(plannedInstanceChecks);
}

/** Postgres refuses an undeclared client itself (pg_hba.conf); Redis cannot tell clients apart, so only a firewall does. */
const checksSource = (i: OutsideInstance) => i.service === "spark-pg" || i.firewalled;

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
 * certificate valid for the listen address, the plain protocol refused, and this client's address
 * let in exactly when declared: by the firewall, when the host has one, else by Postgres'
 * pg_hba.conf, which answers before any password.
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
  const source = secure.localAddress ?? target.source ?? (await localAddressFor(target.address));
  const sourceCheck = checksSource(instance) ? [sourceResult(instance, secure, source)] : [];
  // A client the firewall rightly drops sees no server at all: what it would see of TLS is unknowable from here.
  if (instance.firewalled && dropped(secure) && source !== undefined && !sourceDeclared(source, instance.listen, instance.clients)) {
    const why = `${source} is not a declared client, and the firewall drops it: run verify from a declared network to check this`;
    return [skip(n.tls(instance), why), skip(n.plain(instance), why), ...sourceCheck];
  }
  const results = [secure.tlsVerified ? pass(n.tls(instance), `TLS verified; ${secure.said}`) : fail(n.tls(instance), "TLS verified with the host CA", secure.said)];
  results.push(plainRefused(instance.service, plain) ? pass(n.plain(instance), plain.said) : fail(n.plain(instance), "refused", plain.said));
  return [...results, ...sourceCheck];
}

/** No TCP handshake within the time: what a dropping firewall looks like to a client. */
const dropped = (answer: ProbeAnswer) => /^no connection: timed out/.test(answer.said);

function plainRefused(service: Service, answer: ProbeAnswer): boolean {
  if (answer.said.startsWith("no connection")) return true;
  if (service === "spark-pg") return answer.said.startsWith("hba refused") || answer.said === "closed";
  return !/^"?[+-]/.test(answer.said);
}

function sourceResult(instance: OutsideInstance, secure: ProbeAnswer, source: string | undefined): CheckResult {
  const name = outsideCheckNames.source(instance);
  if (source === undefined) return fail(name, "a source address to judge", secure.said);
  const declared = sourceDeclared(source, instance.listen, instance.clients);
  const refusal = instance.firewalled ? "dropped by the firewall" : "refused by pg_hba.conf";
  const expected = declared ? `${source} admitted (declared)` : `${source} ${refusal} (not declared)`;
  const admitted = secure.tlsVerified && (instance.service === "redis" || secure.said === "auth requested");
  const refused = instance.firewalled ? dropped(secure) : secure.said.startsWith("hba refused");
  if (!admitted && !refused) return fail(name, expected, secure.said);
  const how = instance.service === "spark-pg" ? "the server asked for a password" : "TLS verified";
  const found = admitted ? `${source} admitted: ${how}` : `${source} refused: ${instance.firewalled ? "no answer (the firewall dropped it)" : secure.said}`;
  return admitted === declared ? pass(name, found) : fail(name, expected, found);
}
