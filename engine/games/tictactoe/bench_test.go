package tictactoe_test

import (
	"testing"

	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/tictactoe"
)

func BenchmarkFoldTictactoe(b *testing.B) { enginetest.BenchFold(b, tictactoe.Game(), nil, 2) }

func BenchmarkFoldJSONTictactoe(b *testing.B) { enginetest.BenchFoldJSON(b, tictactoe.Game(), nil, 2) }

func BenchmarkDecideTictactoe(b *testing.B) { enginetest.BenchDecide(b, tictactoe.Game(), nil, 2) }
