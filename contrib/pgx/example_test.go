package pgxpool_test

import (
	"context"
	"fmt"
	"log"

	pgxpool "github.com/chanpool/chanpool/contrib/pgx"
)

// The switch from pgxpool: only the import changes. (No Output: it needs a
// server; the tests start their own.)
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app?pool_max_conns=8&pool_acquire_timeout=2s")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, pool.Stat().TotalConns())
}
