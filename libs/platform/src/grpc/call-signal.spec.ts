import { EventEmitter } from 'node:events';
import { CallSignal, type CancellableCall } from './call-signal';

class FakeCall extends EventEmitter implements CancellableCall {
  cancelled = false;

  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }
}

describe('call signal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('adds no listener and no timer to a call whose handler never asks for it', () => {
    const call = new FakeCall();
    const signal = new CallSignal(call, new Date(Date.now() + 1_000));
    expect(call.listenerCount('cancelled')).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    signal.release();
  });

  it('aborts when the caller cancels after the handler took it', () => {
    const call = new FakeCall();
    const { signal } = new CallSignal(call, undefined);
    expect(signal.aborted).toBe(false);
    call.cancel();
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toMatch(/call cancelled/);
  });

  it('is aborted already when the caller cancelled before the handler took it', () => {
    const call = new FakeCall();
    const callSignal = new CallSignal(call, undefined);
    call.cancel();
    expect(callSignal.signal.aborted).toBe(true);
  });

  it('aborts when the deadline passes, or at once when it has passed', () => {
    const call = new FakeCall();
    const { signal } = new CallSignal(call, new Date(Date.now() + 300));
    jest.advanceTimersByTime(299);
    expect(signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(String(signal.reason)).toMatch(/deadline exceeded/);
    const late = new CallSignal(new FakeCall(), new Date(Date.now() - 1));
    expect(late.signal.aborted).toBe(true);
  });

  it('leaves no listener or timer once the call is over', () => {
    const call = new FakeCall();
    const callSignal = new CallSignal(call, new Date(Date.now() + 1_000));
    expect(callSignal.signal.aborted).toBe(false);
    expect(call.listenerCount('cancelled')).toBe(1);
    callSignal.release();
    expect(call.listenerCount('cancelled')).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    call.cancel();
    expect(callSignal.signal.aborted).toBe(false);
  });
});
