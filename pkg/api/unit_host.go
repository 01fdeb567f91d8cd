package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
)

// Host reads the machine a unit runs on for the dashboard's header widgets (docs/http.md, "System and capabilities").
// HostOS is the real one; tests hand in a fake so the answers are fixed.
type Host interface {
	DiskSpace() (available, total uint64, err error)
	Memory() (available, total uint64, err error)
	IPv4() string
}

// HostOS reads the root file system, /proc/meminfo and the network interfaces.
type HostOS struct{}

// DiskSpace is the root file system's free (for unprivileged users) and total bytes.
func (HostOS) DiskSpace() (available, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err != nil {
		return 0, 0, fmt.Errorf("statfs /: %w", err)
	}
	bs := uint64(st.Bsize) //nolint:unconvert // int64 on linux/amd64, int32 on linux/arm
	return st.Bavail * bs, st.Blocks * bs, nil
}

// Memory is MemAvailable and MemTotal of /proc/meminfo, in bytes.
func (HostOS) Memory() (available, total uint64, err error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemAvailable:":
			available = kb * 1024
		case "MemTotal:":
			total = kb * 1024
		}
	}
	if total == 0 {
		return 0, 0, errors.New("read memory: no MemTotal in /proc/meminfo")
	}
	return available, total, sc.Err()
}

// IPv4 is the first IPv4 address of an interface that is up and not loopback, else
// 127.0.0.1 (a unit alone on its machine, as under --sim).
func (HostOS) IPv4() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// bytesAnswer is what disk_space and memory answer.
type bytesAnswer struct {
	AvailableBytes uint64 `json:"available_bytes"`
	TotalBytes     uint64 `json:"total_bytes"`
}

func (s *Server) host() Host {
	if s.cfg.Host != nil {
		return s.cfg.Host
	}
	return HostOS{}
}

func (s *Server) hostRoutes(g *echo.Group) {
	g.GET("/system/disk_space", func(c echo.Context) error {
		a, t, err := s.host().DiskSpace()
		if err != nil {
			return internal("Could not read the disk space.", err)
		}
		cache(c, 10)
		return c.JSON(http.StatusOK, bytesAnswer{a, t})
	})
	g.GET("/system/memory", func(c echo.Context) error {
		a, t, err := s.host().Memory()
		if err != nil {
			return internal("Could not read the memory.", err)
		}
		return c.JSON(http.StatusOK, bytesAnswer{a, t})
	})
	g.GET("/system/ipv4", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"ipv4_address": s.host().IPv4()})
	})
	g.GET("/system/web_server/status", s.webServerStatus)
	// No USB support: every unit answers as one with no drive plugged in.
	g.GET("/usb", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"status": "absent", "partitions": []any{}, "active_mount": nil})
	})
	g.GET("/usb/artifacts", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"mountpoint": nil, "updates": []any{}, "plugins": []any{},
			"writable": false, "free_bytes": 0})
	})
	for _, action := range []string{"mount", "eject"} {
		g.POST("/usb/"+action, func(c echo.Context) error {
			return s.queue(c, func(context.Context) (any, error) {
				//lint:ignore ST1005 a task's error text is shown to the user as is
				return nil, errors.New("No USB drive is present.")
			})
		})
	}
}

// webServerStatus is GET /unit_api/system/web_server/status: on the leader, the daemon that
// answers is the web server, so it is ready; other units have none (403, as the original).
func (s *Server) webServerStatus(c echo.Context) error {
	if s.cfg.Leader == nil {
		return httpError(http.StatusForbidden, "Only the leader serves the web server status.",
			s.cfg.Unit.Name()+" is not the leader.", "Ask the leader.")
	}
	return c.JSON(http.StatusOK, map[string]string{"service": "pioreactord", "state": "ready",
		"raw_status": "pioreactord " + s.cfg.Version + " serving since " + s.started.UTC().Format(time.RFC3339)})
}

// usbProxy is the leader's proxy of a unit's USB route: one unit (not $broadcast), in a task.
func (s *Server) usbProxy(method, path string) echo.HandlerFunc {
	return func(c echo.Context) error {
		unit, err := s.oneUnit(c, "use a USB drive")
		if err != nil {
			return err
		}
		return s.queue(c, func(ctx context.Context) (any, error) {
			return s.leader().Cluster.Do(ctx, []string{unit}, cluster.Request{Method: method, Path: path}), nil
		})
	}
}
