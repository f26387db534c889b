import { PackpubError } from '../errors.js';

/**
 * A call Palette did not answer through its retries (429, 5xx, a dropped, stalled or cut answer): its error as it is
 * (code, message, hint). Palette may answer a later call: a sync's wait asks again at its next poll (operations/palette.ts).
 */
export class PaletteUnavailable extends PackpubError {
  constructor(
    readonly failed: PackpubError,
    /** Its retries were cut by the deadline of the call (the wait's, --palette-timeout): no later poll would fit. */
    readonly atDeadline = false,
  ) {
    super(failed.code, failed.message, { ...(failed.hint === undefined ? {} : { hint: failed.hint }), ...(failed.cause === undefined ? {} : { cause: failed.cause }) });
  }
}
