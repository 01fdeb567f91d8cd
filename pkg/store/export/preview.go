package export

import (
	"fmt"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Preview returns the first n rows of a dataset across every experiment, as JSON objects
// of its columns (no generated columns), for GET .../preview (docs/data.md, "Exports").
func Preview(src Source, d Dataset, n int) ([]map[string]any, error) {
	it, err := d.read(src, filter{})
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	out := []map[string]any{}
	for len(out) < n && it.Next() {
		row := make(map[string]any, len(d.Columns))
		for i, v := range it.Values() {
			row[d.Columns[i].Name] = jsonValue(v)
		}
		out = append(out, row)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	return out, nil
}

func jsonValue(v store.Field) any {
	switch {
	case v.Null:
		return nil
	case v.Kind == store.Real:
		return round12(v.F)
	case v.Kind == store.Integer:
		return v.I
	case v.Kind == store.Timestamp:
		return contract.FormatTime(v.T)
	}
	return v.S
}
