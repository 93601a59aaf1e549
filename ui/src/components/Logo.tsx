// The Keyhold mark: the padlock of icons/icon.png, as SVG.
export function Logo(props: { size?: number }) {
  const s = props.size ?? 28;
  return (
    <svg class="logo" width={s} height={s} viewBox="0 0 512 512" aria-hidden="true">
      <defs>
        <linearGradient id="kh-logo-g" x1="0" y1="0" x2="0" y2="1">
          <stop offset="0" stop-color="#4f7df3" />
          <stop offset="1" stop-color="#1e3a8a" />
        </linearGradient>
      </defs>
      <rect x="16" y="16" width="480" height="480" rx="112" fill="url(#kh-logo-g)" />
      <path d="M176 232V180a80 80 0 0 1 160 0v52" fill="none" stroke="#fff" stroke-width="36" stroke-linecap="round" />
      <rect x="128" y="222" width="256" height="200" rx="36" fill="#fff" />
      <circle cx="256" cy="302" r="28" fill="#1e3a8a" />
      <rect x="244" y="312" width="24" height="60" rx="8" fill="#1e3a8a" />
    </svg>
  );
}
