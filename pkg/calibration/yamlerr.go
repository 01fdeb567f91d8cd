package calibration

import "github.com/pioreactor/pioreactord/internal/yamlerr"

// yamlMessage is err's text with yaml.v3's parser-error line numbers made 1-based.
func yamlMessage(err error) string { return yamlerr.Message(err) }
