// Package crazyeights is Crazy Eights on the engine, for 2 to 4 players
// with one standard 52-card deck.
//
// The rules, as played here:
//
//   - The deck is shuffled. With 2 players each gets 7 cards, with 3 or 4
//     players 5, dealt one at a time in seat order. The first card of the
//     rest that is not an 8 is turned up to start the discard pile; the rest
//     is the deck, drawn from the front. The first seat plays first; play
//     passes in seat order.
//   - On your turn you play one card that matches the suit to follow (the
//     top card's suit, or the suit named after an 8) or the top card's rank.
//     Eights are wild: you may play one at any time, and must then name a
//     suit (a forced action: "name_suit") unless it was your last card.
//   - You may draw only when you cannot play. You draw one card; then you
//     play a card (only the drawn one can fit) or pass. (This is the "draw
//     one, then play or pass" variant, not "draw until you can play".)
//   - When the deck is empty and you must draw, the discard pile except its
//     top card is shuffled into a new deck. When that leaves nothing to draw
//     (deck empty, discard pile only its top card), you cannot draw and must
//     pass.
//   - The first player to empty their hand wins. If every player in turn
//     passes without having been able to draw, the game is blocked and ends:
//     the player(s) with the fewest cards win (a shared win on a tie).
//
// Hidden information: each hand is seen only by its player, the order of
// the deck by nobody (auditors excepted). Redacted events and views show
// such cards as "??". Played cards, named suits, passes and the number of
// cards anyone holds are public.
//
// Actions: {"type":"play","card":"8H"}, {"type":"name_suit","suit":"S"},
// {"type":"draw"}, {"type":"pass"}. Cards are rank then suit: A 2..10 J Q K
// and C D H S. Config: {}.
//
// Events: dealt, played, suit_named, drew, reshuffled, passed.
package crazyeights
