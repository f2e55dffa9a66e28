package requestid

import (
	"context"
	"testing"
)

func TestEnsureKeepsAnIDAndMakesOneWhenMissing(t *testing.T) {
	ctx, id := Ensure(context.Background())
	if len(id) != 16 || From(ctx) != id {
		t.Fatalf("new id %q, carried %q", id, From(ctx))
	}
	again, same := Ensure(ctx)
	if same != id || From(again) != id {
		t.Fatalf("an id already carried became %q", same)
	}
	if New() == New() {
		t.Fatal("two new ids are equal")
	}
	if From(context.Background()) != "" {
		t.Fatal("a bare context carries an id")
	}
}
