import * as pulumi from "@pulumi/pulumi";

/**
 * A component of this project. It knows its qualified type (its parents' types joined by `$`, as
 * the engine builds URNs), so its commands can name their own URN without waiting on the
 * component's: a component's URN as a dependency would make each child wait for all its siblings.
 */
export class SparksComponent extends pulumi.ComponentResource {
  readonly qualifiedType: string;

  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    this.qualifiedType = opts?.parent instanceof SparksComponent ? `${opts.parent.qualifiedType}$${type}` : type;
  }
}

/** The URN the engine gives a resource of `type` named `name` under `parent` (pkg/resource/urn.go NewURN). */
export function childUrn(parent: pulumi.Resource | undefined, type: string, name: string): string {
  if (parent !== undefined && !(parent instanceof SparksComponent)) throw new Error(`${name}: a host command's parent must be a SparksComponent`);
  const qualified = parent === undefined ? type : `${parent.qualifiedType}$${type}`;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}
