// Export the current view as a standalone SVG (styles inlined) or a PNG drawn from it.
import { EXPORT_CSS } from './style';

export function svgText(svg: SVGSVGElement, viewport: SVGGElement, width: number, height: number): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const vp = clone.querySelector('.agv-viewport');
  vp?.removeAttribute('transform');
  void viewport;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(Math.ceil(width)));
  clone.setAttribute('height', String(Math.ceil(height)));
  clone.setAttribute('viewBox', `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`);
  clone.setAttribute('class', 'agv-root-export');
  const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
  style.textContent = `.agv-root-export{--bg:#fff;--err:#d93a3a;--node:#fff;--group:#eef3ff;--rep:#f3ecff;--stretch:#e9f7f1;--sourced:#fff6e6;--accent:#3a6ff7;font-family:system-ui,sans-serif;background:#fff}` + EXPORT_CSS;
  clone.insertBefore(style, clone.firstChild);
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%'); bg.setAttribute('height', '100%'); bg.setAttribute('fill', '#ffffff');
  clone.insertBefore(bg, style.nextSibling);
  return new XMLSerializer().serializeToString(clone);
}

export function pngBlob(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(width * scale);
      canvas.height = Math.ceil(height * scale);
      const ctx = canvas.getContext('2d');
      if (!ctx) { reject(new Error('no 2d context')); return; }
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob failed'))), 'image/png');
    };
    img.onerror = () => reject(new Error('the SVG did not load as an image'));
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  });
}

export function download(name: string, data: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(data);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
