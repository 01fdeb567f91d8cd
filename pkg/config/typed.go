package config

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// MQTTConfig is how the daemon reaches the broker ([mqtt], docs/config.md, "Keys the daemon reads").
type MQTTConfig struct {
	Username      string
	Password      string
	BrokerAddress string // first ;-separated entry of broker_address; "" if that is empty
	Port          int
	WSPort        int
	UseTLS        bool   // use_tls: reach the broker over MQTT-over-TLS (docs/security.md)
	TLSCAFile     string // tls_ca_file: PEM certificates trusted beside the system's; "" for none
}

// MQTT returns the broker settings with the reference's fallbacks. A missing broker_address
// falls back to the leader address; an empty one stays empty (docs/config.md, "Keys the daemon reads":
// provisioning always fills it in).
func (c *Config) MQTT() (MQTTConfig, error) {
	m := MQTTConfig{
		Username: c.String(SecMQTT, "username", "pioreactor"),
		Password: c.String(SecMQTT, "password", "raspberry"),
	}
	if v, ok := c.view[SecMQTT][keyBrokerAddr]; ok {
		m.BrokerAddress = strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
	} else {
		m.BrokerAddress = c.LeaderAddress()
	}
	var err error
	if m.Port, err = c.Int(SecMQTT, "broker_port", 1883); err != nil {
		return m, err
	}
	if m.WSPort, err = c.Int(SecMQTT, "broker_ws_port", 9001); err != nil {
		return m, err
	}
	if m.UseTLS, err = c.Bool(SecMQTT, "use_tls", false); err != nil {
		return m, err
	}
	m.TLSCAFile = strings.TrimSpace(c.String(SecMQTT, "tls_ca_file", ""))
	return m, nil
}

// LeaderHostname is [cluster.topology] leader_hostname, "localhost" when absent or empty
// (an empty name can never match a unit).
func (c *Config) LeaderHostname() string {
	return nonEmpty(c.String(SecTopology, keyLeaderHost, ""), defaultLeader)
}

// LeaderAddress is [cluster.topology] leader_address, "localhost" when absent or empty.
func (c *Config) LeaderAddress() string {
	return nonEmpty(c.String(SecTopology, keyLeaderAddr, ""), defaultLeader)
}

// UnitAddress is how to reach unit: its [cluster.addresses] entry, else <unit>.local; IP
// literals and localhost are used as they are.
func (c *Config) UnitAddress(unit string) string {
	if v := strings.TrimSpace(c.String(SecAddresses, unit, "")); v != "" {
		return v
	}
	if unit == "localhost" || net.ParseIP(unit) != nil {
		return unit
	}
	return unit + ".local"
}

// PWMRoles returns [PWM] as channel → role, unused (empty) channels dropped.
func (c *Config) PWMRoles() map[string]string { return c.ownNonEmpty(SecPWM) }

// PWMChannelFor returns the PWM channel assigned to role ("stirring", "media", …).
func (c *Config) PWMChannelFor(role string) (string, bool) {
	ch, ok := c.view[SecPWMReverse][role]
	return ch, ok && ch != ""
}

// LEDChannelFor returns the LED channel carrying label ("IR", …).
func (c *Config) LEDChannelFor(label string) (string, bool) {
	ch, ok := c.view[SecLEDsReverse][label]
	return ch, ok && ch != ""
}

// RefChannel marks the reference photodiode in [od_config.photodiode_channel].
const RefChannel = "REF"

var validAngles = []string{"45", "90", "135", "180"}

// PhotodiodeChannels returns [od_config.photodiode_channel] as channel → angle or REF,
// validated: every value an angle or REF, at most one REF, at least one angle.
func (c *Config) PhotodiodeChannels() (map[string]string, error) {
	chans := c.ownNonEmpty(SecPhotodiode)
	refs, angles := 0, 0
	for _, k := range c.own[SecPhotodiode] {
		v, ok := chans[k]
		if !ok {
			continue
		}
		switch {
		case v == RefChannel:
			refs++
		case slices.Contains(validAngles, v):
			angles++
		default:
			return nil, fmt.Errorf("[%s] %s: angle='%s' is not a valid angle. Must be one of 45, 90, 135, 180 or REF", SecPhotodiode, k, v)
		}
	}
	if refs > 1 {
		return nil, fmt.Errorf("[%s]: only one channel can be REF, found %d", SecPhotodiode, refs)
	}
	if angles == 0 {
		return nil, fmt.Errorf("[%s]: at least one channel must have an angle (45, 90, 135 or 180)", SecPhotodiode)
	}
	return chans, nil
}

// ownNonEmpty returns a section's own keys (not [DEFAULT]'s) with non-empty stripped values.
func (c *Config) ownNonEmpty(name string) map[string]string {
	m := map[string]string{}
	for _, k := range c.own[name] {
		if v := strings.TrimSpace(c.view[name][k]); v != "" {
			m[k] = v
		}
	}
	return m
}

func nonEmpty(v, fallback string) string {
	if strings.TrimSpace(v) == "" {
		return fallback
	}
	return strings.TrimSpace(v)
}
