package liarsdice_test

import (
	"testing"

	"github.com/playlog/playlog/engine/enginetest"
	"github.com/playlog/playlog/engine/games/liarsdice"
)

func BenchmarkFoldLiarsdice(b *testing.B) { enginetest.BenchFold(b, liarsdice.Game(), nil, 4) }

func BenchmarkFoldJSONLiarsdice(b *testing.B) { enginetest.BenchFoldJSON(b, liarsdice.Game(), nil, 4) }

func BenchmarkDecideLiarsdice(b *testing.B) { enginetest.BenchDecide(b, liarsdice.Game(), nil, 4) }
