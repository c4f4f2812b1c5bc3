import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../lib/project-root";
import type { StackState } from "./types";
import { isSecret, SECRET_SIG, SIG_KEY } from "./values";

/** Where a stack's state lives unless `--state` says otherwise. */
export const defaultStatePath = (stack: string): string => path.join(projectRoot(), ".sparks", stack, "state.json");

/**
 * The sandbox engine's state for one stack, like a Pulumi checkpoint: written after every step
 * (0600, by rename), secrets stored only as ciphertext under a key kept beside it, as Pulumi's
 * passphrase secrets provider stores `{"ciphertext": ...}` in place of each secret value.
 */
export class StateFile {
  private readonly keyFile: string;
  private key: Buffer | undefined;

  constructor(
    readonly file: string,
    private readonly stack: string,
  ) {
    this.keyFile = `${file}.key`;
  }

  /** Whether there is a state to forget; removes it and its key. */
  forget(): boolean {
    const had = existsSync(this.file);
    for (const file of [this.file, this.keyFile]) rmSync(file, { force: true });
    return had;
  }

  read(): StackState {
    if (!existsSync(this.file)) return { version: 1, stack: this.stack, resources: [], pendingOperations: [] };
    const stored = JSON.parse(readFileSync(this.file, "utf8")) as StackState;
    if (stored.version !== 1) throw new Error(`${this.file}: state version ${String(stored.version)} is not one this harness reads`);
    if (stored.stack !== this.stack) throw new Error(`${this.file} holds the state of stack ${stored.stack}, not ${this.stack}`);
    return this.transform(stored, (secret) => ({ [SIG_KEY]: SECRET_SIG, value: JSON.parse(this.decrypt(secret.ciphertext as string)) })) as StackState;
  }

  write(state: StackState): void {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const sealed = this.transform(state, (secret) => ({ [SIG_KEY]: SECRET_SIG, ciphertext: this.encrypt(JSON.stringify(secret.value)) }));
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }

  private transform(value: unknown, onSecret: (secret: Record<string, unknown>) => unknown): unknown {
    if (Array.isArray(value)) return value.map((inner) => this.transform(inner, onSecret));
    if (value === null || typeof value !== "object") return value;
    if (isSecret(value) || (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) return onSecret(value as Record<string, unknown>);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, this.transform(inner, onSecret)]));
  }

  private secretKey(): Buffer {
    if (this.key) return this.key;
    if (!existsSync(this.keyFile)) {
      mkdirSync(path.dirname(this.keyFile), { recursive: true, mode: 0o700 });
      writeFileSync(this.keyFile, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
    }
    this.key = Buffer.from(readFileSync(this.keyFile, "utf8"), "base64");
    return this.key;
  }

  private encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.secretKey(), iv);
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `v1:${iv.toString("base64")}:${cipher.getAuthTag().toString("base64")}:${body.toString("base64")}`;
  }

  private decrypt(ciphertext: string): string {
    const [version, iv, tag, body] = ciphertext.split(":");
    if (version !== "v1") throw new Error(`${this.file}: unknown secret format ${version}`);
    const decipher = createDecipheriv("aes-256-gcm", this.secretKey(), Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
}
