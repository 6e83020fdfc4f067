package crazyeights_test

import (
	"testing"

	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/crazyeights"
)

func BenchmarkFoldCrazyeights(b *testing.B) { enginetest.BenchFold(b, crazyeights.Game(), nil, 4) }

func BenchmarkFoldJSONCrazyeights(b *testing.B) {
	enginetest.BenchFoldJSON(b, crazyeights.Game(), nil, 4)
}

func BenchmarkDecideCrazyeights(b *testing.B) { enginetest.BenchDecide(b, crazyeights.Game(), nil, 4) }
