/** The root stack resource's type: its children's URNs do not carry it (pkg/resource/urn.go, NewURN callers). */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` (pkg/resource/urn.go NewURN). */
export function newUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
  const parentType = parentUrn === undefined || parentUrn === "" ? "" : qualifiedType(parentUrn);
  // The whole chain of parent types qualifies the type (pkg/resource/deploy/deployment.go generateURN);
  // Pulumi's mock monitor keeps only the last link, which would hide a move to another parent.
  const qualified = parentType === "" || parentType === ROOT_STACK_TYPE ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The `a$b$c` part of a URN. */
export function qualifiedType(urn: string): string {
  return urnParts(urn).qualifiedType;
}

/** The resource's own name, the part after the last `::`. */
export function urnName(urn: string): string {
  return urnParts(urn).name;
}

function urnParts(urn: string): { stack: string; project: string; qualifiedType: string; name: string } {
  const match = /^urn:pulumi:([^:]*)::([^:]*)::(.+?)::(.*)$/s.exec(urn);
  if (!match) throw new Error(`not a URN: ${urn}`);
  return { stack: match[1], project: match[2], qualifiedType: match[3], name: match[4] };
}
