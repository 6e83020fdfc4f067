// One small renderer per rules name. Each takes the view of one step,
//   {rules, players, turn, state, events, at}
// where state is the rules' own state as the viewer may see it (the
// replay answer's state.state; see docs/games/), events the game's events
// as this viewer was sent them (index seq-1) and at the step, and returns
// the board's element. A game without a renderer is shown as its state's
// JSON.
import { h } from "./dom.js";

export const renderers = {
  tictactoe: renderTicTacToe,
  crazyeights: renderCrazyEights,
  liarsdice: renderLiarsDice,
};

export function renderBoard(rules, view) {
  const render = renderers[rules] || renderJSON;
  try {
    return render(view);
  } catch (err) {
    // A state of an unexpected shape (a newer rules version) stays readable.
    return h("div", {}, h("p", { class: "note" }, `cannot draw this ${rules} state (${err.message}); its JSON:`), renderJSON(view));
  }
}

function renderJSON(view) {
  return h("pre", { class: "json" }, JSON.stringify(view.state, null, 2));
}

// seat is a player's name, marked when it is their turn.
function seatName(view, player) {
  const toAct = (view.turn || []).includes(player);
  return h("span", { class: toAct ? "name to-act" : "name", title: toAct ? "to act" : undefined }, player, toAct ? " ◀" : "");
}

// --- tictactoe: {players: [x, o], board: [9 × 0|1|2], next} ---

function renderTicTacToe(view) {
  const s = view.state;
  const marks = ["", "X", "O"];
  return h("div", { class: "tictactoe" },
    h("p", { class: "players" }, "X ", seatName(view, s.players[0]), " · O ", seatName(view, s.players[1])),
    h("div", { class: "grid", role: "grid" },
      s.board.map((m, i) => h("div", { class: `cell mark-${marks[m] || "none"}`, "data-cell": i, "data-mark": marks[m] || "" }, marks[m] || ""))));
}

// --- crazyeights: {players, hands: [[card]], deck: [card], discard: [card], suit, turn, drawn, naming, blocked} ---

const SUITS = { C: "♣", D: "♦", H: "♥", S: "♠" };
const HIDDEN = "??";

// card shows a card as rank and suit symbol; data-card keeps its code.
function card(code) {
  const suit = code.slice(-1);
  return h("span", { class: `card suit-${suit}`, "data-card": code, title: code }, code.slice(0, -1) + (SUITS[suit] || suit));
}

function renderCrazyEights(view) {
  const s = view.state;
  const top = s.discard[s.discard.length - 1];
  return h("div", { class: "crazyeights" },
    h("div", { class: "table" },
      h("div", { class: "pile", "data-count": s.discard.length }, h("span", { class: "label" }, "Discard pile"), top ? card(top) : "empty",
        h("span", { class: "small" }, `${s.discard.length} card${s.discard.length === 1 ? "" : "s"}`)),
      h("div", { class: "suit", "data-suit": s.suit }, "Suit to follow: ", h("b", {}, `${SUITS[s.suit] || ""} ${s.suit}`)),
      h("div", { class: "deck", "data-count": s.deck.length }, `Deck: ${s.deck.length} card${s.deck.length === 1 ? "" : "s"}`),
      s.naming ? h("div", { class: "note" }, "an 8 was played: a suit must be named") : null),
    h("ul", { class: "seats" }, s.players.map((p, i) => {
      const hand = s.hands[i] || [];
      // Only a hand the viewer may see is drawn; the others are a count.
      const visible = hand.length > 0 && hand.every((c) => c !== HIDDEN);
      return h("li", { class: "seat", "data-player": p, "data-count": hand.length },
        seatName(view, p), " ",
        h("span", { class: "count" }, `${hand.length} card${hand.length === 1 ? "" : "s"}`),
        visible ? h("div", { class: "hand" }, hand.map(card)) : null);
    })));
}

// --- liarsdice: {players, hands: [[die 0..6]], turn, bid: {quantity, face}, bidder} ---
// A die is 0 when the viewer may not see it; challenges reveal every die in
// the `challenged` event, never in the state.

function dice(values) {
  return h("span", { class: "dice" }, values.map((d) => h("span", { class: d ? "die" : "die hidden", "data-face": d }, d ? String(d) : "?")));
}

function renderLiarsDice(view) {
  const s = view.state;
  const bids = roundBids(view);
  const challenge = lastChallenge(view);
  const standing = s.bid && s.bid.quantity > 0
    ? h("p", { class: "bid", "data-quantity": s.bid.quantity, "data-face": s.bid.face }, "Standing bid: ", h("b", {}, `${s.bid.quantity} × ${s.bid.face}`), ` by ${s.players[s.bidder]}`)
    : h("p", { class: "bid none" }, "No bid yet this round");
  return h("div", { class: "liarsdice" },
    standing,
    bids.length ? h("ol", { class: "bids" }, bids.map((b) => h("li", { class: "past-bid" }, `${b.player}: ${b.quantity} × ${b.face}`))) : null,
    h("ul", { class: "seats" }, s.players.map((p, i) => {
      const hand = s.hands[i] || [];
      return h("li", { class: hand.length ? "seat" : "seat out", "data-player": p, "data-count": hand.length },
        seatName(view, p), " ",
        h("span", { class: "count" }, hand.length ? `${hand.length} ${hand.length === 1 ? "die" : "dice"}` : "out"),
        hand.some((d) => d > 0) ? h("span", { class: "own" }, " ", dice(hand)) : null);
    })),
    challenge ? renderReveal(challenge) : null);
}

// roundBids lists the bids of the round step view.at is in, oldest first.
function roundBids(view) {
  const bids = [];
  for (let seq = view.at; seq >= 1; seq--) {
    const ev = view.events[seq - 1];
    if (!ev) continue;
    if (ev.type === "rolled" || ev.type === "challenged") break;
    if (ev.type === "bid" && ev.data) bids.unshift(ev.data);
  }
  return bids;
}

// lastChallenge is the latest challenge at or before step view.at: the
// dice it revealed are the previous round's, shown until the next one.
function lastChallenge(view) {
  for (let seq = view.at; seq >= 1; seq--) {
    const ev = view.events[seq - 1];
    if (ev && ev.type === "challenged" && ev.data) return ev;
  }
  return null;
}

function renderReveal(ev) {
  const d = ev.data;
  return h("div", { class: "reveal", "data-seq": ev.seq },
    h("p", {}, `Challenge (step ${ev.seq}): ${d.player} challenged ${d.bidder}'s ${d.quantity} × ${d.face}; `,
      h("b", {}, `${d.count} showed ${d.face}`), `, ${d.loser} loses a die`),
    h("ul", { class: "revealed" }, (d.revealed || []).map((r) =>
      h("li", { "data-player": r.player }, h("span", { class: "name" }, r.player), " ", dice(r.dice)))));
}
