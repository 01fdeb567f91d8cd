// Package clustertest runs a pioreactord cluster the way it is deployed: a leader and
// workers as separate processes on loopback, talking over real HTTP and the leader's MQTT
// broker (or an external Mosquitto), driven only through the leader's REST API and the
// pio/pios binaries. It has no code outside its tests.
package clustertest
