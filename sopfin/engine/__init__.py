"""The money maths: dollarize, the summary against budget, the price/volume/mix bridge, the
standard-cost variances, working capital, and stranded and excess stock."""
