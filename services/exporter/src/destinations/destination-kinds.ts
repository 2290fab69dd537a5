import { create } from '@bufbuild/protobuf';
import { type DestinationConfig, DestinationConfigSchema } from '@shoal/contracts';
import type { FieldViolation } from '@shoal/platform';
import type { DestinationKind, KindConfig } from './destination-kind';
import { DestinationError } from './destinations.errors';

/** The destination kinds this exporter serves, by `DestinationConfig.kind` case. */
export class DestinationKinds {
  private readonly byCase: Map<string, DestinationKind>;

  constructor(kinds: readonly DestinationKind[]) {
    this.byCase = new Map(kinds.map((k) => [k.kind, k]));
  }

  /** Closes what every kind keeps open. */
  async close(): Promise<void> {
    await Promise.all([...this.byCase.values()].map((k) => k.close?.()));
  }

  /** The kind of a stored configuration (always a known one). */
  of(config: DestinationConfig | undefined): {
    kind: DestinationKind;
    value: KindConfig<DestinationKind['kind']>;
  } {
    const chosen = config?.kind;
    const kind = chosen?.case ? this.byCase.get(chosen.case) : undefined;
    if (!kind || !chosen?.value)
      throw DestinationError.invalid([{ field: 'config', description: 'names no known kind' }]);
    return { kind, value: chosen.value };
  }

  /**
   * A configuration validated and normalised for storage; `stored` is the one it replaces
   * (a different kind replaces it entirely).
   */
  async prepared(
    config: DestinationConfig | undefined,
    stored: DestinationConfig | undefined,
  ): Promise<DestinationConfig> {
    const { kind, value } = this.of(config);
    const previous = stored?.kind.case === kind.kind ? stored.kind.value : undefined;
    const violations: FieldViolation[] = kind.validate(value as never, previous as never);
    if (violations.length === 0 && kind.validateTarget)
      violations.push(...(await kind.validateTarget(value as never)));
    if (violations.length > 0) throw DestinationError.invalid(violations);
    // a message, not its init: an edit spreads the stored destination (a message) with it, and
    // create() keeps a message's fields as they are, so a plain object there would be stored as is
    return create(DestinationConfigSchema, {
      kind: { case: kind.kind, value: kind.normalised(value as never, previous as never) },
    } as DestinationConfig);
  }
}

export const DESTINATION_KINDS = Symbol('DestinationKinds');
