import { ringDash, statusTone, statusWord, type Status } from "../lib/format";

/** The security score: a ring, the number and the status word. */
export function ScoreRing(props: { score: number; status: Status; size?: number }) {
  const size = props.size ?? 148;
  const stroke = 12;
  const radius = (size - stroke) / 2;
  const { circumference, offset } = ringDash(props.score, radius);
  const tone = statusTone(props.status);
  return (
    <div
      class={`score-ring tone-${tone}`}
      data-testid="score-ring"
      role="img"
      aria-label={`Security score ${props.score} out of 100: ${statusWord(props.status)}`}
      style={{ width: `${size}px`, height: `${size}px` }}
    >
      <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} aria-hidden="true">
        <circle class="ring-track" cx={size / 2} cy={size / 2} r={radius} stroke-width={stroke} fill="none" />
        <circle
          class="ring-value"
          cx={size / 2}
          cy={size / 2}
          r={radius}
          stroke-width={stroke}
          fill="none"
          stroke-linecap="round"
          stroke-dasharray={`${circumference} ${circumference}`}
          stroke-dashoffset={offset}
          transform={`rotate(-90 ${size / 2} ${size / 2})`}
        />
      </svg>
      <div class="ring-label">
        <span class="ring-score" data-testid="score-value">
          {props.score}
        </span>
        <span class="ring-of">of 100</span>
      </div>
    </div>
  );
}
