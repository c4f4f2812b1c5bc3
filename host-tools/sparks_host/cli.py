"""The command line shared by the Sparks host tools: same verbs, flags, output and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from .instances import (Any, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_NO_SPACE, EXIT_OK, EXIT_POOL_EXHAUSTED,
                        EXIT_USAGE, Service, ToolError, human_bytes, raise_on_signals)

EPILOG = f"""exit codes: {EXIT_OK} ok, {EXIT_USAGE} usage or invalid name, {EXIT_NOT_FOUND} not found, {EXIT_EXISTS} already exists,
{EXIT_POOL_EXHAUSTED} port pool exhausted, {EXIT_NO_SPACE} not enough disk, {EXIT_FAILURE} any other failure.
Errors go to stderr as '<tool>: error: ...'. NAME matches ^[a-z][a-z0-9-]{{0,31}}$, TAG ^[a-z0-9][a-z0-9-]{{0,31}}$."""


class Parser(argparse.ArgumentParser):
    """Usage errors in the tool's one error format, `<tool>: error: [VERB: ]MESSAGE`, exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        tool, _, verb = self.prog.partition(" ")
        self.exit(EXIT_USAGE, f"{tool}: error: {verb + ': ' if verb else ''}{message}\n")


def build_parser(service: type[Service]) -> argparse.ArgumentParser:
    tool = service.tool
    parser = Parser(prog=tool, description=service.description, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = Parser(add_help=False)
    common.add_argument("--timings", action="store_true", help="print how long each step took (stderr)")
    with_json = Parser(add_help=False)
    with_json.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(name: str, help: str, json_flag: bool = False) -> argparse.ArgumentParser:
        parents = [common, with_json] if json_flag else [common]
        return verbs.add_parser(name, help=help, description=help, parents=parents)

    verb("setup", "install the unit templates and directories (idempotent)")
    p = verb("new", "create an empty instance, started and enabled", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p = verb("fork", "copy SOURCE (or its snapshot SOURCE@TAG) into a new running instance NAME", json_flag=True)
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--ttl", metavar="DURATION", help="destroy NAME after this long: 30m, 2h, 1d, 1h30m (s for tests)")
    p = verb("connect", f"run {service.client_name} as NAME's role (arguments after -- go to {service.client_name})")
    p.add_argument("name", metavar="NAME")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--uri", action="store_true", help="print the connection URI, password included, instead")
    how.add_argument("--run", action="store_true",
                     help="run the program after -- instead, with the connection (password included) in its environment")
    p = verb("status", "state, port, sizes and snapshots of NAME, or of every instance", json_flag=True)
    p.add_argument("name", metavar="NAME", nargs="?")
    verb("list", "one line per instance", json_flag=True)
    p = verb("destroy", "stop NAME and remove its subvolume, snapshots, unit, timer and password")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--expired", action="store_true", help="only if its TTL has ended (what the expiry timer runs)")
    p = verb("reset", "return a fork to the state it was forked at (port and password stay)", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p = verb("snapshot", "keep a read-only snapshot NAME@TAG of the running instance", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("tag", metavar="TAG")
    p = verb("rollback", "replace NAME's data by its snapshot TAG (port and password stay)", json_flag=True)
    p.add_argument("name", metavar="NAME")
    p.add_argument("tag", metavar="TAG")
    p = verb("ensure", "create NAME if missing, start it if stopped; last lines: sparks-instance: created|existed, sparks-result: changed|unchanged")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--fork-of", metavar="SOURCE", help="create NAME as a fork of SOURCE (or SOURCE@TAG)")
    p.add_argument("--ttl", metavar="DURATION", help="with --fork-of: destroy NAME after this long")
    p = verb("start", "enable and start NAME")
    p.add_argument("name", metavar="NAME")
    p = verb("stop", "stop and disable NAME (it stays stopped after a reboot)")
    p.add_argument("name", metavar="NAME")
    verb("reload-tls", "make every running instance serve the host's current TLS certificate (after a renewal)")
    return parser


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2))


def describe(s: dict[str, Any]) -> str:
    size = s.get("size")
    size_text = (f"{human_bytes(size['referenced_bytes'])} referenced, {human_bytes(size['exclusive_bytes'])} exclusive, "
                 f"{human_bytes(size['shared_bytes'])} shared") if size else "unknown (btrfs quotas are off)"
    lines = [
        f"{s['name']}: {s['state']}{'' if s['enabled'] else ' (not enabled at boot)'}",
        f"  address:   {s['address']}:{s['port']}",
        f"  role:      {s.get('role')}  database: {s.get('database')}",
        f"  source:    {s.get('source') or '-'}",
        f"  created:   {s.get('created_at')}",
        f"  expires:   {s.get('expires_at') or 'never'}",
        f"  snapshots: {', '.join(s['snapshots']) or '-'}",
        f"  size:      {size_text}",
    ]
    if s.get("tls"):
        lines.append(f"  tls:       certificate valid until {s['tls']['not_after'] or 'missing'} (CA {s['tls']['ca_file']})")
    return "\n".join(lines)


def table(rows: list[dict[str, Any]]) -> str:
    header = ("NAME", "STATE", "PORT", "SOURCE", "EXPIRES")
    body = [(r["name"], r["state"], str(r["port"]), r["source"] or "-", r["expires_at"] or "-") for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *body])


def dispatch(service: Service, args: argparse.Namespace, extra: list[str]) -> int:
    tool = service.tool
    verb = args.verb
    if verb == "setup":
        changed = service.setup()
        print(f"sparks-result: {'changed' if changed else 'unchanged'}")
    elif verb == "new":
        s = service.new(args.name)
        emit(s) if args.json else print(f"created {s['name']} at {s['address']}:{s['port']} (role {s['role']}, "
                                        f"database {s['database']}) in {s['timings_ms']['total'] / 1000:.2f} s")
    elif verb == "fork":
        s = service.fork(args.source, args.name, args.ttl)
        expiry = f"; expires {s['expires_at']}" if s.get("expires_at") else ""
        emit(s) if args.json else print(f"forked {args.source} -> {s['name']} at {s['address']}:{s['port']} "
                                        f"in {s['timings_ms']['total'] / 1000:.2f} s{expiry}")
    elif verb == "connect":
        out = service.connect(args.name, args.uri, extra, run=args.run)
        if out is not None:
            print(out)
    elif verb == "status":
        result = service.status(args.name)
        if args.json:
            emit(result)
        else:
            items = [result] if isinstance(result, dict) else result
            print("\n".join(describe(s) for s in items) if items else "no instances")
    elif verb == "list":
        rows = service.list()
        emit(rows) if args.json else print(table(rows) if rows else "no instances")
    elif verb == "destroy":
        print(service.destroy(args.name, args.expired))
    elif verb == "reset":
        s = service.reset(args.name)
        emit(s) if args.json else print(f"reset {s['name']} to its fork-time state in {s['timings_ms']['total'] / 1000:.2f} s")
    elif verb == "snapshot":
        s = service.snapshot(args.name, args.tag)
        emit(s) if args.json else print(f"snapshot {args.name}@{args.tag} taken in {s['timings_ms']['total'] / 1000:.2f} s")
    elif verb == "rollback":
        s = service.rollback(args.name, args.tag)
        emit(s) if args.json else print(f"rolled {s['name']} back to {args.tag} in {s['timings_ms']['total'] / 1000:.2f} s")
    elif verb == "ensure":
        changed, created, message = service.ensure(args.name, args.fork_of, args.ttl)
        print(message)
        print(f"sparks-instance: {'created' if created else 'existed'}")
        print(f"sparks-result: {'changed' if changed else 'unchanged'}")
    elif verb == "start":
        print(f"{args.name}: {'started' if service.start(args.name) else 'already running'}")
    elif verb == "stop":
        print(f"{args.name}: {'stopped' if service.stop(args.name) else 'already stopped'}")
    elif verb == "reload-tls":
        print("\n".join(service.reload_tls()) or "no running instance")
    else:  # argparse refuses unknown verbs first
        raise ToolError(f"unknown verb {verb!r}", EXIT_USAGE)
    return EXIT_OK


def main(service_cls: type[Service], argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = build_parser(service_cls)
    args = parser.parse_args(argv)
    if extra and args.verb != "connect":
        parser.error("arguments after -- are only for connect")
    tool = service_cls.tool
    try:
        if os.geteuid() != 0:
            raise ToolError("must run as root (it manages subvolumes, units and passwords)")
        raise_on_signals()
        return dispatch(service_cls(timings=args.timings), args, extra)
    except ToolError as e:
        print(f"{tool}: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{tool}: error: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:  # a bug: say so plainly, with the trace for the report
        import traceback

        traceback.print_exc()
        print(f"{tool}: error: internal error: {e}", file=sys.stderr)
        return EXIT_FAILURE
