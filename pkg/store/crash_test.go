package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// crashChildEnv makes the test binary act as the writer that TestKill9DuringIngest kills.
const crashChildEnv = "PIOREACTORD_STORE_CRASH_CHILD"

// TestKill9DuringIngest kills a process with SIGKILL while it writes rows through a
// Writer as fast as it can, then reopens the file: it must open, pass a full page check,
// and hold every row whose commit the child had reported (acknowledged) before it died.
func TestKill9DuringIngest(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 { // each round kills a writer appending to the same file
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9DuringIngest$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("ROUND=%d", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := int64(-1)
		sc := bufio.NewScanner(out)
		deadline := time.Now().Add(20 * time.Second)
		for sc.Scan() && time.Now().Before(deadline) {
			if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				acked, _ = strconv.ParseInt(n, 10, 64)
			}
			if acked >= 20000 {
				break
			}
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond) // land the kill at different points of a commit
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if acked < 0 {
			t.Fatalf("round %d: the child acknowledged nothing", round)
		}

		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		if err := db.Check(); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		it := db.Rows(store.Query{Table: store.GrowthRates, Experiments: []string{"exp"}, Units: []string{fmt.Sprintf("r%d", round)}})
		var next int64
		for it.Next() {
			if int64(it.Row().Value) != next {
				t.Fatalf("round %d: row %d has value %v: a gap", round, next, it.Row().Value)
			}
			next++
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if next <= acked {
			t.Errorf("round %d: %d rows stored, but %d were acknowledged", round, next, acked+1)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: acknowledged %d, found %d", round, acked+1, next)
	}
}

// crashChild writes numbered rows as the ingester does (many small writes, batched by a
// Writer) and prints the highest number every committed batch made durable.
func crashChild(path string) {
	db, err := store.Open(path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	w := db.NewWriter(store.WriterOptions{MaxBatch: 500, MaxDelay: 5 * time.Millisecond})
	ctx := context.Background()
	go func() { _ = w.Run(ctx) }()
	unit := "r" + os.Getenv("ROUND")
	acks := make(chan int64, 1024)
	go func() {
		out := bufio.NewWriter(os.Stdout)
		for n := range acks {
			fmt.Fprintf(out, "acked %d\n", n)
			out.Flush()
		}
	}()
	for i := int64(0); ; i++ {
		r := store.Row{Table: store.GrowthRates, Experiment: "exp", Unit: unit,
			Time: t0.Add(time.Duration(i) * time.Millisecond), Value: float64(i)}
		_ = w.Write(ctx, []store.Row{r}, func(_ store.InsertStats, err error) {
			if err == nil {
				acks <- i
			}
		})
	}
}
