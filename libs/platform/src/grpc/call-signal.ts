import type { EventEmitter } from 'node:events';

/** What a grpc-js server call offers about its end: a flag, and an event when it is cancelled. */
export type CancellableCall = EventEmitter & { readonly cancelled: boolean };

/**
 * The AbortSignal of one served call, aborted when the caller cancels or the deadline passes.
 * It is made only when a handler first asks for it: most unary answers never do, and a
 * controller, a listener and a deadline timer for every call cost more than such an answer.
 */
export class CallSignal {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private over = false;
  private readonly onCancel = () => this.controller?.abort(new Error('call cancelled'));

  constructor(
    private readonly call: CancellableCall,
    private readonly deadline: Date | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.controller !== undefined) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    if (this.over) return controller.signal;
    if (this.call.cancelled) {
      controller.abort(new Error('call cancelled'));
      return controller.signal;
    }
    this.call.once('cancelled', this.onCancel);
    if (this.deadline !== undefined) {
      const left = this.deadline.getTime() - Date.now();
      if (left <= 0) controller.abort(new Error('deadline exceeded'));
      else this.timer = setTimeout(() => controller.abort(new Error('deadline exceeded')), left);
    }
    return controller.signal;
  }

  /** The call is over: no timer or listener outlives it. */
  release(): void {
    this.over = true;
    if (this.controller === undefined) return;
    clearTimeout(this.timer);
    this.call.removeListener('cancelled', this.onCancel);
  }
}
