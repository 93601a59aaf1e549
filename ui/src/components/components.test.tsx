import { cleanup, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorNotice } from "./Notice";
import { PasswordMeter } from "./PasswordMeter";
import { ScoreRing } from "./ScoreRing";

afterEach(cleanup);

describe("ScoreRing", () => {
  it("labels the score and status for assistive tech", () => {
    render(<ScoreRing score={42} status="at_risk" />);
    const ring = screen.getByRole("img");
    expect(ring.getAttribute("aria-label")).toBe("Security score 42 out of 100: At risk");
    expect(ring.className).toContain("tone-warn");
    expect(screen.getByTestId("score-value").textContent).toBe("42");
  });
});

describe("ErrorNotice", () => {
  it("shows a not-available error as pending, not as a failure", () => {
    render(<ErrorNotice error={{ kind: "not_available", message: "This version of Keyhold cannot list agent keys yet.", details: [], retry_after_secs: null }} />);
    const notice = screen.getByRole("alert");
    expect(notice.className).toContain("notice-pending");
    expect(notice.textContent).toContain("cannot list agent keys yet");
  });

  it("lists the details under a failure", () => {
    render(<ErrorNotice error={{ kind: "invalid_request", message: "Use at least 15 characters.", details: ["Add another word or two."], retry_after_secs: null }} />);
    expect(screen.getByRole("alert").className).toContain("notice-danger");
    expect(screen.getByText("Add another word or two.")).toBeTruthy();
  });

  it("renders nothing without an error", () => {
    const { container } = render(<ErrorNotice error={null} />);
    expect(container.textContent).toBe("");
  });
});

describe("PasswordMeter", () => {
  it("shows the score, the policy's problems and zxcvbn's advice", () => {
    render(
      <PasswordMeter
        id="m"
        strength={{
          score: 1,
          crack_time: "3 hours",
          warning: "This is a very common password.",
          suggestions: ["Add another word or two."],
          problems: ["Use at least 15 characters."],
          acceptable: false,
          length: 8,
        }}
      />,
    );
    const meter = screen.getByTestId("password-meter");
    expect(meter.className).toContain("meter-bad");
    expect(screen.getByTestId("password-score").textContent).toBe("Weak");
    expect(meter.textContent).toContain("3 hours");
    expect(meter.textContent).toContain("Use at least 15 characters.");
    expect(meter.textContent).toContain("Add another word or two.");
    expect(meter.querySelectorAll(".meter-bars .on").length).toBe(2);
  });

  it("explains the rule before anything is typed", () => {
    render(<PasswordMeter id="m" strength={null} />);
    expect(screen.getByTestId("password-meter").textContent).toContain("at least 15 characters");
  });
});
