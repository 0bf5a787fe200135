/**
 * Words for generated calls and texts: transcript turns, summaries with next steps, voicemail transcripts and text
 * messages, including long ones, accents, emoji, right-to-left and CJK scripts. Deterministic for a random source.
 */
import { pick } from "../shared/roster.ts";

const AGENT_LINES = [
  "Thanks for calling, how can I help you today?",
  "Let me pull up your account, one moment.",
  "I can schedule that for Thursday morning if that works.",
  "I'll send the quote over by email this afternoon.",
  "Could you confirm the address for the site visit?",
  "We have a technician free next week.",
  "That's covered under the current agreement.",
  "I'll check with the team and call you back.",
];
const CUSTOMER_LINES = [
  "Hi, I'm calling about the invoice from last month.",
  "We'd like to move the appointment to next week.",
  "Can you tell me where the order is?",
  "The numbers on the estimate look different from what we discussed.",
  "Yes, Thursday morning is fine.",
  "Could you also include the second location?",
  "Perfect, thank you — ça marche, merci!",
  "I'll forward it to my colleague Zoë.",
];
const SUMMARY_LINES = [
  "The customer asked about last month's invoice and a discrepancy on the estimate.",
  "A site visit was scheduled for Thursday morning.",
  "The customer wants the second location included in the quote.",
  "Delivery status of the open order was confirmed.",
  "The current agreement covers the requested repair.",
];
const NEXT_STEPS = [
  "Email the revised quote by end of day.",
  "Confirm the Thursday appointment by text.",
  "Check the order status with the warehouse.",
  "Add the second location to the account.",
  "Call back after talking to the team.",
];
const VOICEMAILS = [
  "Hi, it's about the estimate, please call me back when you can.",
  "Hello, I wanted to reschedule tomorrow's visit. Thanks!",
  "Calling to confirm the delivery window. Talk soon.",
];
const SHORT_TEXTS = ["Running 10 min late", "Thanks!", "👍", "Can you call me?", "Sounds good, see you then", "Got it", "Merci beaucoup 🙏", "Bis morgen!", "¿Está listo el pedido?", "了解しました", "شكرا جزيلا", "OK 👌🏽"];
const SENTENCES = [
  "Just following up on the quote you sent over last week.",
  "We reviewed it with the team and have a couple of questions about the second line item.",
  "Could you clarify whether the installation is included, or billed separately?",
  "Also, our office will be closed on Friday, so Thursday works better for the visit.",
  "Naïve question perhaps, but does the warranty cover the façade as well?",
  "Let me know what you think — thanks again for the quick turnaround!",
];

/** A conversation of `turns` alternating turns lasting about `durationSeconds` in total. */
export function transcriptDialogue(random: () => number, durationSeconds: number, turns: number, speakers: { agent: { identifier: string; userId: string }; customer: string }) {
  const step = durationSeconds / Math.max(turns, 1);
  const dialogue = [];
  for (let i = 0; i < turns; i++) {
    const agent = i % 2 === 0;
    const start = Math.round((i * step + random() * step * 0.1) * 1e6) / 1e6;
    const end = Math.round(Math.min(durationSeconds, start + step * (0.6 + random() * 0.35)) * 1e6) / 1e6;
    dialogue.push({
      content: pick(random, agent ? AGENT_LINES : CUSTOMER_LINES),
      start,
      end: Math.max(end, start),
      identifier: agent ? speakers.agent.identifier : speakers.customer,
      userId: agent ? speakers.agent.userId : null,
    });
  }
  return dialogue;
}

/** Turns needed for about `chars` characters of transcript. */
export function turnsForChars(chars: number): number {
  return Math.max(2, Math.round(chars / 45));
}

export function summaryLines(random: () => number): { summary: string[]; nextSteps: string[] } {
  const count = 1 + Math.floor(random() * 3);
  const summary = Array.from({ length: count }, () => pick(random, SUMMARY_LINES));
  const nextSteps = Array.from({ length: Math.floor(random() * 3) + 1 }, () => pick(random, NEXT_STEPS));
  return { summary: [...new Set(summary)], nextSteps: [...new Set(nextSteps)] };
}

export function voicemailTranscript(random: () => number): string {
  return pick(random, VOICEMAILS);
}

/** A text: mostly short, sometimes a paragraph, sometimes close to the 1600-character limit. */
export function messageText(random: () => number): string {
  const roll = random();
  if (roll < 0.7) return pick(random, SHORT_TEXTS);
  const target = roll < 0.93 ? 200 + Math.floor(random() * 300) : 1400 + Math.floor(random() * 190);
  let text = "";
  while (text.length < target) text += (text ? " " : "") + pick(random, SENTENCES);
  return text.slice(0, Math.min(target, 1600)).trimEnd();
}
