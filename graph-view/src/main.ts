// Entry point of the bundle. A page with <script type="application/json" id="agrippa-graph-data">
// (what `agrippa view` writes) mounts itself; a VS Code webview mounts on the first 'graph'
// message. `window.agrippaGraph` is the running view (for tests and the benchmark).
import { GraphApp, HostMessage } from './app';

performance.mark('agv-script');
import { clearLayoutCache, warmUp } from './layout';
import { ModelGraph } from './model';

declare function acquireVsCodeApi(): { postMessage(msg: unknown): void };

interface Win { agrippaGraph?: GraphApp; AgrippaGraphView?: unknown }
const win = window as unknown as Win;

function mount(data: ModelGraph, post?: (m: HostMessage) => void): GraphApp {
  const host = document.getElementById('agrippa-graph') ?? document.body;
  const app = new GraphApp(host, data, { post });
  win.agrippaGraph = app;
  return app;
}

function start(): void {
  warmUp();
  const script = document.getElementById('agrippa-graph-data');
  if (script?.textContent?.trim()) {
    const data = JSON.parse(script.textContent);
    performance.mark('agv-parsed');
    mount(data);
    return;
  }
  if (typeof acquireVsCodeApi === 'function') {
    const vscode = acquireVsCodeApi();
    const post = (m: HostMessage) => vscode.postMessage(m);
    let app: GraphApp | undefined;
    window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
      const msg = ev.data;
      if (!msg || typeof msg.type !== 'string') return;
      if (!app && msg.type === 'graph') {
        app = mount(msg.graph as ModelGraph, post);
        if (msg.stale) app.onMessage(msg);
      } else app?.onMessage(msg);
    });
    post({ type: 'ready' });
  }
}

win.AgrippaGraphView = { GraphApp, mount, clearLayoutCache };
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
