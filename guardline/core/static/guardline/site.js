// Behaviour that would otherwise be inline handlers (the Content Security Policy allows no inline script).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.autosubmit !== undefined && el.form) el.form.submit();
});

// Print buttons: <button data-print>.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

// A signature drawn on the screen (home check): <canvas data-signature-for="ID of a hidden input">, cleared by
// a button with data-signature-clear; the drawing is put into the hidden input when its form is submitted.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("canvas[data-signature-for]").forEach((canvas) => {
    const ctx = canvas.getContext("2d");
    const input = document.getElementById(canvas.dataset.signatureFor);
    let drawing = false;
    let used = false;
    ctx.lineWidth = 2;
    const point = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
    };
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true;
      used = true;
      const [x, y] = point(e);
      ctx.beginPath();
      ctx.moveTo(x, y);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      const [x, y] = point(e);
      ctx.lineTo(x, y);
      ctx.stroke();
    });
    window.addEventListener("pointerup", () => {
      drawing = false;
    });
    const form = canvas.closest("form");
    form?.querySelector("[data-signature-clear]")?.addEventListener("click", () => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      used = false;
    });
    form?.addEventListener("submit", () => {
      if (used && input) input.value = canvas.toDataURL("image/png");
    });
  });
});
