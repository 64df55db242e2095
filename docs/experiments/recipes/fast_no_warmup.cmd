python colorization.py --model UNet --recipe fast --warmup 0 --experiment-name exp_recipes_fast_no_warmup --overwrite
