// Helpers for showing `$/progress` reports of the training run.

export interface WorkDoneValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

/** Turns the server's begin/report/end values into VS Code progress reports (increments). */
export class ProgressTracker {
  private reported = 0;
  lastMessage: string | undefined;
  lastLoss: number | undefined;
  title: string | undefined;
  ended = false;

  /** What to pass to `progress.report()`, or undefined for nothing. */
  update(value: WorkDoneValue): { message?: string; increment?: number } | undefined {
    if (value.kind === 'begin') this.title = value.title;
    if (value.kind === 'end') {
      this.ended = true;
      if (value.message) this.lastMessage = value.message;
      return value.message ? { message: value.message } : undefined;
    }
    const out: { message?: string; increment?: number } = {};
    if (typeof value.message === 'string') {
      out.message = value.message;
      this.lastMessage = value.message;
      const loss = parseLoss(value.message);
      if (loss !== undefined) this.lastLoss = loss;
    }
    if (typeof value.percentage === 'number' && Number.isFinite(value.percentage)) {
      const pct = Math.max(0, Math.min(100, value.percentage));
      const delta = Math.max(0, pct - this.reported);
      this.reported += delta;
      if (delta > 0) out.increment = delta;
    }
    return out.message !== undefined || out.increment !== undefined ? out : undefined;
  }
}

/** "step 120/1000 loss 0.4132 ETA 12s" -> 0.4132 */
export function parseLoss(message: string): number | undefined {
  const m = /\bloss[\s:=]+(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)/i.exec(message);
  if (!m) return undefined;
  const v = Number(m[1].toLowerCase() === 'inf' ? Infinity : m[1].toLowerCase() === 'nan' ? NaN : m[1]);
  return v;
}

export function formatLoss(loss: unknown): string {
  return typeof loss === 'number' && Number.isFinite(loss) ? loss.toPrecision(4) : String(loss);
}
