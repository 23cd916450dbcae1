// Command interop checks a log published by `claims publish` with Go's reference tlog code,
// golang.org/x/mod/sumdb/tlog and sumdb/note, reading nothing but the published directory.
//
//	interop DIR VERIFIER_KEY [EARLIER_CHECKPOINT_FILE]
//
// It opens DIR/checkpoint with the verifier key; checks the tree hash through
// tlog.TileHashReader over the published tiles (Go asks for tile/8/L/N[.p/W], read from the
// c2sp.org/tlog-tiles path tile/L/N[.p/W]); checks that every bundled entry's tlog.RecordHash
// is its leaf; proves and checks the inclusion of some records; and, given an earlier
// checkpoint of the same log, proves and checks the consistency of the two sizes.
//
// Build it in GOPATH mode with Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o interop main.go
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

// tiles reads the published tiles for Go's TileHashReader.
type tiles struct{ dir string }

func (t tiles) Height() int { return height }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		data, err := os.ReadFile(filepath.Join(t.dir, c2spPath(tile)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

// c2spPath turns Go's tile/8/L/N[.p/W] (or tile/8/data/...) into c2sp.org/tlog-tiles'
// tile/L/N[.p/W] (or tile/entries/...).
func c2spPath(tile tlog.Tile) string {
	rest := strings.TrimPrefix(tile.Path(), "tile/8/")
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// open verifies a signed checkpoint with the verifier key and reads its body.
func open(text []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return checkpoint{}, fmt.Errorf("a checkpoint has three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return checkpoint{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("bad root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	if lines[0] != verifier.Name() {
		return checkpoint{}, fmt.Errorf("origin %q is not the key's name %q", lines[0], verifier.Name())
	}
	return checkpoint{lines[0], size, root}, nil
}

// entries reads the bundle holding entries index*256+1 to index*256+width.
func entries(dir string, index int64, width int) ([][]byte, error) {
	tile := tlog.Tile{H: height, L: -1, N: index, W: width}
	data, err := os.ReadFile(filepath.Join(dir, c2spPath(tile)))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, fmt.Errorf("bundle %d ends inside a length", index)
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("bundle %d ends inside an entry", index)
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	if len(out) != width {
		return nil, fmt.Errorf("bundle %d holds %d entries, not %d", index, len(out), width)
	}
	return out, nil
}

func run() error {
	if len(os.Args) < 3 || len(os.Args) > 4 {
		return fmt.Errorf("usage: interop DIR VERIFIER_KEY [EARLIER_CHECKPOINT_FILE]")
	}
	dir := os.Args[1]
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	text, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return err
	}
	cp, err := open(text, verifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	reader := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tiles{dir})
	root, err := tlog.TreeHash(cp.size, reader)
	if err != nil {
		return fmt.Errorf("tree hash from the tiles: %v", err)
	}
	if root != cp.root {
		return fmt.Errorf("the tiles give root %v, the checkpoint says %v", root, cp.root)
	}

	// Every entry's record hash is its leaf, read through the authenticated tiles.
	checked := int64(0)
	for index := int64(0); index*256 < cp.size; index++ {
		width := cp.size - index*256
		if width > 256 {
			width = 256
		}
		bundle, err := entries(dir, index, int(width))
		if err != nil {
			return err
		}
		indexes := make([]int64, len(bundle))
		for i := range bundle {
			indexes[i] = tlog.StoredHashIndex(0, index*256+int64(i))
		}
		leaves, err := reader.ReadHashes(indexes)
		if err != nil {
			return fmt.Errorf("leaves of bundle %d: %v", index, err)
		}
		for i, entry := range bundle {
			if tlog.RecordHash(entry) != leaves[i] {
				return fmt.Errorf("entry %d: its record hash is not its leaf", index*256+int64(i)+1)
			}
			checked++
		}
	}

	// Inclusion of some records: the first, the last, and a few between.
	proven := 0
	for _, n := range []int64{0, cp.size / 3, cp.size / 2, cp.size - 1} {
		if n < 0 || n >= cp.size {
			continue
		}
		bundle, err := entries(dir, n/256, int(min64(256, cp.size-n/256*256)))
		if err != nil {
			return err
		}
		proof, err := tlog.ProveRecord(cp.size, n, reader)
		if err != nil {
			return fmt.Errorf("prove record %d: %v", n, err)
		}
		if err := tlog.CheckRecord(proof, cp.size, cp.root, n, tlog.RecordHash(bundle[n%256])); err != nil {
			return fmt.Errorf("check record %d: %v", n, err)
		}
		proven++
	}

	summary := fmt.Sprintf("ok: %s, %d entries, root %v: tree hash from tiles, %d record hashes, %d inclusion proofs",
		cp.origin, cp.size, cp.root, checked, proven)
	if len(os.Args) == 4 {
		earlierText, err := os.ReadFile(os.Args[3])
		if err != nil {
			return err
		}
		earlier, err := open(earlierText, verifier)
		if err != nil {
			return fmt.Errorf("earlier checkpoint: %v", err)
		}
		proof, err := tlog.ProveTree(cp.size, earlier.size, reader)
		if err != nil {
			return fmt.Errorf("prove tree %d to %d: %v", earlier.size, cp.size, err)
		}
		if err := tlog.CheckTree(proof, cp.size, cp.root, earlier.size, earlier.root); err != nil {
			return fmt.Errorf("check tree %d to %d: %v", earlier.size, cp.size, err)
		}
		summary += fmt.Sprintf(", consistency from %d entries", earlier.size)
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		return fmt.Errorf("the checkpoint does not end in a newline")
	}
	fmt.Println(summary)
	return nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}
