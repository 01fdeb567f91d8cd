package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
)

func (a *app) blink(ctx context.Context, args []string) error {
	c := a.command("blink", "Usage: pio blink\n\n  Flash this unit's blue LED (through the leader).")
	if _, err := c.parse(args); err != nil {
		return err
	}
	unit, err := a.unitName(ctx)
	if err != nil {
		return err
	}
	if _, err := a.leaderCall(ctx, http.MethodPost, "/api/workers/"+url.PathEscape(unit)+"/blink", nil); err != nil {
		return failf("Unable to blink this Pioreactor. %v", err)
	}
	return nil
}

func (a *app) versionCmd(ctx context.Context, args []string) error {
	c := a.command("version", "Usage: pio version [-v]")
	verbose := c.fs.Bool("v", false, "")
	c.fs.BoolVar(verbose, "verbose", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	v, err := a.unitCall(ctx, http.MethodGet, "/unit_api/versions/app", nil)
	if err != nil {
		return err
	}
	var ver struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(v, &ver); err != nil {
		return fmt.Errorf("unreadable version: %w", err)
	}
	if !*verbose {
		fmt.Fprintln(a.stdout, ver.Version)
		return nil
	}
	unit, _ := a.unitName(ctx)
	fmt.Fprintf(a.stdout, "Pioreactor app:         %s\nPioreactor CLI:         %s\nUnit:                   %s\n", ver.Version, version, unit)
	return nil
}

const configHelp = `Usage: pio config COMMAND [ARGS]...

Commands:
  get SECTION KEY [--shared | --specific]        the effective value, or one file's
  set SECTION KEY VALUE (--shared | --specific)  change one key in one file
  show [--section S] [--key K] [--json] [--with-source]`

func (a *app) configCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.stdout, configHelp)
		return helpShown(2)
	}
	switch args[0] {
	case "get":
		return a.configGet(ctx, args[1:])
	case "set":
		return a.configSet(ctx, args[1:])
	case "show":
		return a.configShow(ctx, args[1:])
	case "--help", "-h":
		fmt.Fprintln(a.stdout, configHelp)
		return nil
	}
	return usageErr(a.usageLine("config"), "No such command '%s'.", args[0])
}

// configText reads one of this unit's files through its daemon.
func (a *app) configText(ctx context.Context, which string) (string, error) {
	v, err := a.unitCallRaw(ctx, "/unit_api/config/"+which)
	if err != nil {
		return "", err
	}
	return v, nil
}

// unitCallRaw is unitCall for a text answer.
func (a *app) unitCallRaw(ctx context.Context, path string) (string, error) {
	if a.unit == "" {
		_, b, err := a.http.do(ctx, unitTimeout, http.MethodGet, a.url+path, nil)
		return string(b), err
	}
	rs, err := a.relay(ctx, []string{a.unit}, http.MethodGet, path, nil, true)
	if err != nil {
		return "", err
	}
	r, _ := rs.Get(a.unit)
	v, err := resultValue(r)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("unreadable answer: %w", err)
	}
	return s, nil
}

// sections is a config as section → key → value: the effective one, or one file's.
func (a *app) sections(ctx context.Context, which string) (map[string]map[string]string, error) {
	if which == "" {
		v, err := a.unitCall(ctx, http.MethodGet, "/unit_api/config/merged", nil)
		if err != nil {
			return nil, err
		}
		var m map[string]map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("unreadable config: %w", err)
		}
		return m, nil
	}
	text, err := a.configText(ctx, which)
	if err != nil {
		return nil, err
	}
	return fileSections(text), nil
}

// fileSections reads the keys a file sets itself, without derived sections.
func fileSections(text string) map[string]map[string]string {
	out := map[string]map[string]string{}
	c, err := config.Parse([]byte(text), nil)
	if err != nil {
		return out
	}
	for _, s := range c.Sections() {
		if strings.HasSuffix(s, "_reverse") || !strings.Contains(text, "["+s+"]") {
			continue
		}
		out[s] = map[string]string{}
		for _, k := range c.Keys(s) {
			out[s][k] = c.String(s, k, "")
		}
	}
	return out
}

func (a *app) configGet(ctx context.Context, args []string) error {
	c := a.command("config get", configHelp)
	shared := c.fs.Bool("shared", false, "")
	specific := c.fs.Bool("specific", false, "")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if *shared && *specific {
		return c.usage("Use either --shared or --specific, not both.")
	}
	if len(pos) != 2 {
		return c.usage("Expected SECTION and KEY.")
	}
	which := ""
	if *shared {
		which = "shared"
	} else if *specific {
		which = "specific"
	}
	secs, err := a.sections(ctx, which)
	if err != nil {
		return err
	}
	sec, ok := secs[pos[0]]
	if !ok {
		return failf("Section '%s' not found in the configuration.", pos[0])
	}
	v, ok := sec[pos[1]]
	if !ok {
		return failf("Key '%s' not found in section '%s'.", pos[1], pos[0])
	}
	fmt.Fprintln(a.stdout, v)
	return nil
}

func (a *app) configSet(ctx context.Context, args []string) error {
	c := a.command("config set", configHelp)
	shared := c.fs.Bool("shared", false, "")
	specific := c.fs.Bool("specific", false, "")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if *shared == *specific {
		return c.usage("Use exactly one of --shared or --specific.")
	}
	if len(pos) != 3 {
		return c.usage("Expected SECTION, KEY and VALUE.")
	}
	if *specific {
		text, err := a.configText(ctx, "specific")
		if err != nil {
			return err
		}
		_, err = a.unitCall(ctx, http.MethodPost, "/unit_api/config/specific",
			map[string]string{"code": setINIKey(text, pos[0], pos[1], pos[2])})
		return err
	}
	// The shared file is the leader's to edit: elsewhere this is a silent no-op (§3.7).
	me, err := a.unitName(ctx)
	if err != nil {
		return err
	}
	var lh struct {
		Unit string `json:"pioreactor_unit"`
	}
	v, err := a.leaderCall(ctx, http.MethodGet, "/unit_api/health", nil)
	if err != nil {
		return err
	}
	if json.Unmarshal(v, &lh) != nil || lh.Unit != me {
		return nil
	}
	_, b, err := a.http.do(ctx, leaderTimeout, http.MethodGet, a.leader+"/api/config/shared", nil)
	if err != nil {
		return err
	}
	_, _, err = a.http.do(ctx, 80*time.Second, http.MethodPatch, a.leader+"/api/config/shared",
		map[string]string{"code": setINIKey(string(b), pos[0], pos[1], pos[2])})
	return err
}

func (a *app) configShow(ctx context.Context, args []string) error {
	c := a.command("config show", configHelp)
	section := c.fs.String("section", "", "")
	key := c.fs.String("key", "", "")
	asJSON := c.fs.Bool("json", false, "")
	withSource := c.fs.Bool("with-source", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *key != "" && *section == "" {
		return c.usage("--key needs --section.")
	}
	merged, err := a.sections(ctx, "")
	if err != nil {
		return err
	}
	var local, global map[string]map[string]string
	if *withSource {
		if local, err = a.sections(ctx, "specific"); err != nil {
			return err
		}
		if global, err = a.sections(ctx, "shared"); err != nil {
			return err
		}
	}
	source := func(s, k string) string {
		if _, ok := local[s][k]; ok {
			return "local"
		}
		if _, ok := global[s][k]; ok {
			return "global"
		}
		return "derived"
	}
	names := make([]string, 0, len(merged))
	for s := range merged {
		if *section == "" || s == *section {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	out := map[string]map[string]any{}
	for _, s := range names {
		keys := make([]string, 0, len(merged[s]))
		for k := range merged[s] {
			if *key == "" || k == *key {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		out[s] = map[string]any{}
		if !*asJSON {
			fmt.Fprintf(a.stdout, "[%s]\n", s)
		}
		for _, k := range keys {
			v := merged[s][k]
			switch {
			case *asJSON && *withSource:
				out[s][k] = map[string]string{"value": v, "source": source(s, k)}
			case *asJSON:
				out[s][k] = v
			case *withSource:
				fmt.Fprintf(a.stdout, "%s = %s  # source=%s\n", k, v, source(s, k))
			default:
				fmt.Fprintf(a.stdout, "%s = %s\n", k, v)
			}
		}
		if !*asJSON {
			fmt.Fprintln(a.stdout)
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(a.stdout, string(b))
	}
	return nil
}

// setINIKey sets section.key in an INI text, keeping everything else as written: an
// existing key keeps its indentation and delimiter, a new one goes at the end of its
// section, a new section at the end of the file. CRLF files stay CRLF.
func setINIKey(text, section, key, value string) string {
	nl := "\n"
	if strings.Contains(text, "\r\n") {
		nl = "\r\n"
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	in, end := false, -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			if in {
				break
			}
			in = t[1:len(t)-1] == section
			if in {
				end = i
			}
			continue
		}
		if !in || t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		end = i
		if at := strings.IndexAny(l, "=:"); at > 0 && strings.TrimSpace(l[:at]) == key {
			rest := l[at+1:]
			pad := rest[:len(rest)-len(strings.TrimLeft(rest, " \t"))]
			lines[i] = l[:at+1] + pad + value
			return strings.Join(lines, nl)
		}
	}
	if end < 0 {
		body := strings.TrimRight(strings.Join(lines, nl), nl)
		if body != "" {
			body += nl + nl
		}
		return body + "[" + section + "]" + nl + key + "=" + value + nl
	}
	lines = slices.Insert(lines, end+1, key+"="+value)
	return strings.Join(lines, nl)
}

// backupDatabase is `pio backup_database`: the leader copies its store while it runs
// (POST /api/backup) to <store>.backup; `pioreactord --restore FILE` brings it back.
func (a *app) backupDatabase(ctx context.Context, args []string) error {
	c := a.command("backup_database", "Usage: pio backup_database\n\n  Back up the leader's database to <database>.backup while it runs.")
	if _, err := c.parse(args); err != nil {
		return err
	}
	b, err := a.leaderCall(ctx, http.MethodPost, "/api/backup", nil)
	if err != nil {
		return failf("Backup failed: %v", err)
	}
	var res struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Path == "" {
		return failf("Backup failed: unreadable answer %s", b)
	}
	fmt.Fprintf(a.stdout, "Backed up the database to %s (%d bytes).\n", res.Path, res.Bytes)
	return nil
}
